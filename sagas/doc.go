// Package sagas will hold the process managers (event in → command out, durable timers).
// Empty until the first flow lands.
package sagas

package contracts

import (
	"net/netip"
	"strings"
)

// CompareIP is the order of AssetIdentifiers.IPs: address order (net/netip: IPv4 before IPv6,
// numeric within each), and byte order when either is not an address. The assets domain sorts
// the IPs it records with it and the read model sorts the IPs it merges with it, so an asset's
// IPs are listed alike in its events and in its row. (Hand-written: the schemas do not say it.)
func CompareIP(x, y string) int {
	a, errA := netip.ParseAddr(x)
	b, errB := netip.ParseAddr(y)
	if errA != nil || errB != nil {
		return strings.Compare(x, y)
	}
	return a.Compare(b)
}

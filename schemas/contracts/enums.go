package contracts

// values lists an enumeration's constants as strings, in the order given. The generated
// <Enum>Values functions call it with their constants, so that each value is written once, in
// its constant, rather than again as a string literal that could drift from it.
func values[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

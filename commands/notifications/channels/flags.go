package channels

// secretFlag is a string flag holding a credential. Its String is empty, so --help never shows
// a value, and IsSecret tells the command's flag binder that the value may also come from a
// file (SOC_<NAME>_FILE) and must never be echoed in an error.
type secretFlag struct{ p *string }

func (s secretFlag) Set(v string) error { *s.p = v; return nil }
func (s secretFlag) String() string     { return "" }
func (s secretFlag) IsSecret() bool     { return true }

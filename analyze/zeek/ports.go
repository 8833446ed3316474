package zeek

// Zeek's likely_server_ports is the union of the TCP ports that the loaded
// protocol scripts register (each base/protocols/*/main.zeek does
// `redef likely_server_ports += { ports }`). In bare mode (zeek -b) only the
// explicitly loaded protocols contribute; with the default scripts all of
// them do. These lists follow the shipped scripts.
var protocolPorts = map[string][]uint16{
	"dce-rpc":    {135, 137, 138, 139, 445},
	"dnp3":       {20000},
	"dns":        {53},
	"ftp":        {21, 2811},
	"http":       {80, 81, 631, 1080, 3128, 8000, 8080, 8888},
	"imap":       {143},
	"irc":        {6666, 6667, 6668, 6669},
	"krb":        {88},
	"ldap":       {389, 3268},
	"modbus":     {502},
	"mqtt":       {1883},
	"mysql":      {1434, 3306},
	"pop3":       {110},
	"postgresql": {5432},
	"rdp":        {3389},
	"smb":        {139, 445},
	"smtp":       {25, 587},
	"socks":      {1080},
	"ssh":        {22},
	"ssl":        {443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223},
	"syslog":     {514},
	"xmpp":       {5222, 5269},
}

var defaultServerPorts = func() map[uint16]bool {
	m := make(map[uint16]bool)
	for _, ps := range protocolPorts {
		for _, p := range ps {
			m[p] = true
		}
	}
	return m
}()

// DefaultLikelyServerPort reports whether port is in likely_server_ports of
// Zeek run with its default scripts.
func DefaultLikelyServerPort(port uint16) bool { return defaultServerPorts[port] }

// LikelyServerPorts returns a LikelyServerPort for Zeek in bare mode with the
// given base/protocols scripts loaded ("http", "ftp", "ssl", ...; unknown
// names contribute nothing). With none, no port is a likely server port.
func LikelyServerPorts(protocols ...string) func(uint16) bool {
	m := make(map[uint16]bool)
	for _, name := range protocols {
		for _, p := range protocolPorts[name] {
			m[p] = true
		}
	}
	return func(port uint16) bool { return m[port] }
}

#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.6.1	46001	192.0.2.50	80	tcp	-	0.241280	84	666	SF	-	-	0	ShADdfFa	7	456	5	934	-	6
1767225600.541280	C2	10.0.6.1	46001	192.0.2.50	80	tcp	-	0.031240	85	666	SF	-	-	0	ShADdFaf	6	405	4	882	-	6
#close	2026-01-01-00-00-00

#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.6.1	48001	192.0.2.60	80	tcp	-	0.030440	88	5000	SF	-	-	0	ShADdtFf	6	408	9	7476	-	6
1767225600.100000	C2	10.0.6.1	48002	192.0.2.60	80	tcp	-	0.030320	83	4000	SF	-	-	1000	ShADdgFf	6	403	5	3268	-	6
1767225600.200000	C3	10.0.6.1	48003	192.0.2.60	80	tcp	-	0.030320	87	3000	SF	-	-	0	ShADdtFf	6	407	6	4320	-	6
1767225600.300000	C4	10.0.6.1	48004	192.0.2.60	80	tcp	-	0.020160	83	3000	S1	-	-	0	ShADd	3	247	3	2164	-	6
#close	2026-01-01-00-00-00

#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.0.1	40015	192.0.2.10	80	tcp	-	0.081560	84	8688	SF	-	-	0	ShADdtFaf	10	648	9	9164	-	6
1767225600.500000	C2	10.0.0.1	40016	192.0.2.10	80	tcp	-	0.021200	83	1267	SF	-	-	0	SThdAFaf	4	331	4	1483	-	6
#close	2026-01-01-00-00-00

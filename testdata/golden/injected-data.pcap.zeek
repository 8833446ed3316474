#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.10.1	51001	192.0.2.100	80	tcp	-	0.062460	87	3067	SF	-	-	0	ShADdFaf	7	459	7	3532	-	6
1767225601.000000	C2	10.0.10.1	51002	192.0.2.100	80	tcp	-	0.261280	84	566	SF	-	-	0	ShADdtFaf	6	404	5	1400	-	6
1767225602.000000	C3	10.0.10.1	51003	192.0.2.100	80	tcp	-	0.064240	83	1067	SF	-	-	0	ShADdtFaf	6	403	5	1428	-	6
#close	2026-01-01-00-00-02

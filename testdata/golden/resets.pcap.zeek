#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.3.1	43001	192.0.2.30	80	tcp	-	0.020080	89	0	RSTR	-	-	0	ShADr	3	253	2	100	-	6
1767225600.100000	C2	10.0.3.1	43002	192.0.2.30	80	tcp	-	0.020160	91	2896	RSTO	-	-	0	ShADdR	4	295	3	3060	-	6
1767225600.200000	C3	10.0.3.1	43003	192.0.2.30	80	tcp	-	0.041320	88	4999	RSTR	-	-	0	ShADrdFaf	7	460	6	2375	-	6
1767225600.300000	C4	10.0.3.1	43004	192.0.2.30	80	tcp	-	0.031320	88	2067	RSTO	-	-	0	ShADRdFaf	7	448	5	2335	-	6
1767225600.400000	C5	10.0.3.1	43005	192.0.2.30	80	tcp	-	0.331320	83	1067	SF	-	-	0	ShADdFafTr	7	538	5	1323	-	6
1767225600.500000	C6	10.0.3.1	43006	192.0.2.30	80	tcp	-	0.030120	86	666	RSTR	-	-	0	ShADdi	4	302	3	818	-	6
1767225600.600000	C7	10.0.3.1	43007	192.0.2.30	80	tcp	-	0.020080	89	0	RSTR	-	-	0	ShADrt	3	253	2	133	-	6
#close	2026-01-01-00-00-00

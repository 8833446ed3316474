#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.9.1	50001	192.0.2.90	443	tcp	-	0.061240	84	666	RSTR	-	-	0	SrhADdFaf	6	404	5	922	-	6
1767225601.000000	C2	10.0.9.1	50002	192.0.2.90	443	tcp	-	0.020040	0	0	REJ	-	-	0	SrhR	2	100	2	100	-	6
1767225602.000000	C3	10.0.9.1	50003	192.0.2.90	443	tcp	-	0.080240	89	3733	RSTR	-	-	0	ShADdr	5	357	6	4041	-	6
1767225603.000000	C4	10.0.9.1	50004	192.0.2.90	443	tcp	-	120.060120	88	666	RSTR	-	-	0	ShADdr	4	304	3	818	-	6
1767225800.000000	C5	10.0.9.1	50005	192.0.2.90	443	tcp	-	9.320320	83	0	RSTO	-	-	0	ShADFTR	9	879	1	60	-	6
1767225820.000000	C6	10.0.9.1	50006	192.0.2.90	443	tcp	-	0.020000	0	0	REJ	-	-	0	Sr	1	60	1	40	-	6
1767225830.000000	C7	10.0.9.9	50007	10.0.9.9	8080	tcp	-	0.042120	83	666	RSTR	-	-	0	ShADdr	4	299	3	818	-	6
1767225840.000000	C8	10.0.9.1	50008	192.0.2.90	443	tcp	-	5.060200	166	666	RSTR	-	-	0	ShADdar	5	434	4	870	-	6
#close	2026-01-01-00-04-05

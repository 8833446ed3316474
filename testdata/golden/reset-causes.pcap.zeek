#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.7.1	49001	192.0.2.70	443	tcp	-	90.030160	179	666	RSTR	-	-	0	ShADdr	5	447	3	818	-	6
1767225700.000000	C2	10.0.7.1	49002	192.0.2.70	443	tcp	-	3.010240	88	0	RSTO	-	-	0	ShADTR	7	712	1	60	-	6
1767225710.000000	C3	10.0.7.1	49003	192.0.2.70	443	tcp	-	0.010000	92	0	RSTRH	-	-	0	Dr	1	144	1	40	-	6
#close	2026-01-01-00-01-50

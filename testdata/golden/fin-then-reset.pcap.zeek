#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.10.1	56001	198.51.100.80	80	tcp	-	0.020120	89	0	RSTR	-	-	0	ShADFr	4	305	2	100	-	6
1767225600.100000	C2	10.0.10.1	56002	198.51.100.80	80	tcp	-	0.030160	89	666	RSTO	-	-	0	ShADdfR	5	345	3	830	-	6
1767225600.200000	C3	10.0.10.1	56003	198.51.100.80	80	tcp	-	0.030200	88	666	RSTO	-	-	0	ShADdFaR	6	396	3	830	-	6
#close	2026-01-01-00-00-00

#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.8.1	54001	198.51.100.60	80	tcp	-	0.031280	85	2567	SF	-	-	0	ShADdFaf	6	405	5	2835	-	6
1767225600.100000	C2	10.0.8.1	54002	198.51.100.60	80	tcp	-	0.231280	92	366	SF	-	-	0	ShADdtFaf	6	412	5	1000	-	6
1767225600.500000	C3	10.0.8.1	54003	198.51.100.60	80	tcp	-	0.031280	87	186	SF	-	-	0	ShADdtFaf	6	407	5	640	-	6
1767225600.600000	C4	10.0.8.1	54004	198.51.100.60	80	tcp	-	0.020120	84	266	RSTO	-	-	0	ShADdR	4	288	2	378	-	6
#close	2026-01-01-00-00-00

#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.0.1	40007	192.0.2.10	8080	tcp	-	0.010000	0	0	REJ	-	-	0	Sr	1	60	1	40	-	6
1767225600.100000	C2	10.0.0.1	40008	192.0.2.10	80	tcp	-	0.030280	83	5792	RSTO	-	-	0	ShADdR	6	379	5	6060	-	6
#close	2026-01-01-00-00-00

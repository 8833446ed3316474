#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.123457	C1	127.0.0.1	40012	127.0.0.1	8080	tcp	-	0.001156	77	6067	SF	-	-	0	ShADdFaf	6	397	4	6283	-	6
1767225600.124457	C2	::1	40013	::1	8080	tcp	-	0.001156	77	6067	SF	-	-	0	ShADdFaf	6	517	4	6363	-	6
#close	2026-01-01-00-00-00

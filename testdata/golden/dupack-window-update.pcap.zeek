#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.9.1	55001	198.51.100.70	80	tcp	-	0.064440	91	6292	SF	-	-	0	ShADdtFaf	10	619	7	6664	-	6
1767225600.200000	C2	10.0.9.1	55002	198.51.100.70	80	tcp	-	0.064440	176	6292	SF	-	-	0	ShADdtFaf	10	704	7	6664	-	6
1767225600.400000	C3	10.0.9.1	55003	198.51.100.70	80	tcp	-	0.076400	91	6292	SF	-	-	0	ShADdtFaf	9	567	7	6664	-	6
1767225600.600000	C4	10.0.9.1	55004	198.51.100.70	80	tcp	-	0.064480	91	6292	SF	-	-	0	ShADdtFaf	10	619	7	6664	-	6
#close	2026-01-01-00-00-00

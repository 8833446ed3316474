#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.1.1	41001	192.0.2.20	80	tcp	-	0.031240	87	666	SF	-	-	0	ShADdFaf	6	407	4	882	-	6
1767225600.110000	C2	192.0.2.20	80	10.0.1.1	41002	tcp	-	0.031240	666	91	SF	-	-	0	ShdDafAF	5	942	5	359	-	6
1767225600.200000	C3	10.0.1.1	41003	192.0.2.20	80	tcp	-	3.031240	86	666	SF	-	-	0	ShADdFaf	8	526	4	882	-	6
1767225600.300000	C4	10.0.1.1	41004	192.0.2.20	80	tcp	-	3.000000	0	0	S0	-	-	0	S	3	180	0	0	-	6
1767225600.400000	C5	10.0.1.1	41005	192.0.2.20	80	tcp	-	0.010000	0	0	REJ	-	-	0	Sr	1	60	1	40	-	6
1767225600.500000	C6	10.0.1.1	41006	192.0.2.20	80	tcp	-	0.021240	85	666	SF	-	-	0	^hADdFaf	5	345	4	882	-	6
1767225600.600000	C7	10.0.1.1	41007	192.0.2.20	80	tcp	-	0.021280	88	666	SF	-	-	0	^hSADdFaf	6	408	4	882	-	6
1767225600.700000	C8	10.0.1.1	41008	192.0.2.20	80	tcp	-	0.010000	0	0	S1	-	-	0	Sh	1	60	1	60	-	6
1767225600.800000	C9	10.0.1.1	41009	192.0.2.20	80	tcp	-	0.021160	88	666	SF	-	-	0	DdAFaf	4	296	3	822	-	6
1767225600.900000	CA	10.0.1.1	41010	192.0.2.20	80	tcp	-	0.500040	0	0	RSTOS0	-	-	0	SR	2	100	0	0	-	6
1767225601.000000	CB	10.0.1.1	41011	192.0.2.20	80	tcp	-	0.021200	86	666	SF	-	-	0	SThdAFaf	4	314	4	882	-	6
#close	2026-01-01-00-00-03

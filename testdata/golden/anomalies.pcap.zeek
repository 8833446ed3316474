#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.4.1	47001	192.0.2.40	80	tcp	-	0.020200	119	666	S2	-	-	0	ShADdF	6	439	2	778	-	6
1767225600.100000	C2	10.0.4.1	47002	192.0.2.40	80	tcp	-	0.030160	97	666	RSTR	-	-	0	ShADdr	5	365	3	818	-	6
1767225600.200000	C3	10.0.4.1	47003	192.0.2.40	80	tcp	-	0.020120	86	666	S1	-	-	0	ShADd	4	302	2	778	-	6
1767225600.300000	C4	10.0.4.1	47004	192.0.2.40	80	tcp	-	0.020120	82	366	S1	-	-	0	ShADd	4	298	2	478	-	6
1767225600.400000	C5	10.0.4.1	47005	192.0.2.40	80	tcp	-	0.041240	90	666	RSTR	-	-	0	ShArDdFaf	6	410	5	922	-	6
1767225600.500000	C6	10.0.4.1	47006	192.0.2.40	80	tcp	-	0.020200	98	666	S2	-	-	0	ShADdFF	6	408	2	778	-	6
1767225600.600000	C7	10.0.4.1	47007	192.0.2.40	80	tcp	-	0.030160	90	1666	RSTR	-	-	0	ShADdr	5	358	3	818	-	6
1767225600.700000	C8	10.0.4.1	47008	192.0.2.40	80	tcp	-	0.021120	85	666	RSTR	-	-	0	ShADdr	4	301	3	818	-	6
1767225600.800000	C9	10.0.4.1	47009	192.0.2.40	80	tcp	-	0.020160	85	666	S1	-	-	0	ShADd	5	353	2	778	-	6
1767225600.900000	CA	10.0.4.1	47010	192.0.2.40	80	tcp	-	0.020120	86	1367	S1	-	-	0	ShADd	4	302	2	1479	-	6
1767225601.000000	CB	10.0.4.1	47011	192.0.2.40	80	tcp	-	0.020120	88	500	S1	-	-	500	ShADgd	4	304	2	612	-	6
1767225601.100000	CC	10.0.4.1	47012	192.0.2.40	80	tcp	-	0.010080	0	0	S2	-	-	0	ShAF	3	164	1	60	-	6
1767225601.200000	CD	10.0.4.1	47013	192.0.2.40	80	tcp	-	0.220120	26	0	S1	-	-	0	ShADTa	4	268	2	112	-	6
1767225601.300000	CE	10.0.4.1	47014	192.0.2.40	80	tcp	-	0.020120	91	266	S1	-	-	0	ShADd	4	307	2	378	-	6
1767225601.400000	CF	10.0.4.1	47015	192.0.2.40	80	tcp	-	0.230160	90	1024	S1	-	-	0	ShADdWa	5	358	3	1188	-	6
#close	2026-01-01-00-00-01

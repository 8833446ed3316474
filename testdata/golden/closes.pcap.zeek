#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	2026-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	ip_proto
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count
1767225600.000000	C1	10.0.2.1	42007	198.51.100.30	80	tcp	-	0.020120	83	666	S1	-	-	0	ShADd	4	299	2	778	-	6
1767225600.100000	C2	10.0.2.1	42001	198.51.100.30	80	tcp	-	0.031240	87	666	SF	-	-	0	ShADdFaf	6	407	4	882	-	6
1767225600.200000	C3	10.0.2.1	42002	198.51.100.30	80	tcp	-	0.030200	88	666	SF	-	-	0	ShADdFf	6	408	3	830	-	6
1767225600.300000	C4	10.0.2.1	42003	198.51.100.30	80	tcp	-	0.040200	91	666	SF	-	-	0	ShADdFfa	6	411	4	882	-	6
1767225600.400000	C5	10.0.2.1	42004	198.51.100.30	80	tcp	-	0.031320	89	3067	SF	-	-	0	ShADFadf	6	409	6	3387	-	6
1767225600.500000	C6	10.0.2.1	42008	198.51.100.30	80	tcp	-	0.030160	91	2567	RSTO	-	-	0	ShADdFR	5	347	3	2731	-	6
1767226000.000000	C7	10.0.2.1	42005	198.51.100.30	80	tcp	-	0.020240	90	2000	S2	-	-	0	ShADFad	5	358	4	2216	-	6
1767226000.050000	C8	10.0.2.1	42006	198.51.100.30	80	tcp	-	0.020120	83	666	S1	-	-	0	ShADd	4	299	2	778	-	6
#close	2026-01-01-00-06-40

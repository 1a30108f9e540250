-- callmgr signalling frames in Wireshark.
-- Each Ethernet II frame with EtherType 0x88B5 carries one trailer-coded
-- SSCOP PDU (Q.2110); its SD payload is one Q.2931/Q.2971 message.  Wireshark
-- already knows both layers, so this only routes the EtherType to "sscop",
-- whose payload preference (sscop.payload, default Q.2931) picks q2931.
-- Usage: tshark -X lua_script:tools/callmgr.lua -o sscop.payload:Q.2931 -r f.pcap -V
local sscop = Dissector.get("sscop")
local callmgr = Proto("callmgr", "callmgr signalling (SSCOP over Ethernet)")
function callmgr.dissector(tvb, pinfo, tree)
	return sscop:call(tvb, pinfo, tree)
end
DissectorTable.get("ethertype"):add(0x88B5, callmgr)

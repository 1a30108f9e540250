-- Shows callmgr's signalling frames with Wireshark's own dissectors.
-- Frame (docs/wire.md): Ethernet II, EtherType 0x88B5, a 2-octet big-endian
-- SSCOP PDU length (Ethernet pads short frames, and a trailer-coded PDU cannot
-- be found behind padding), one Q.2110 SSCOP PDU, padding.  "sscop" hands SD
-- payloads to the dissector its sscop.payload preference names (Q.2931).
--   tshark -X lua_script:tools/callmgr.lua -o sscop.payload:Q.2931 -r f.pcap -V
local sscop = Dissector.get("sscop")
local proto = Proto("callmgr", "callmgr link framing")
local f_len = ProtoField.uint16("callmgr.length", "SSCOP PDU length", base.DEC)
local f_pad = ProtoField.bytes("callmgr.padding", "Padding")
local e_len = ProtoExpert.new("callmgr.length.bad", "SSCOP PDU length does not fit the frame",
	expert.group.MALFORMED, expert.severity.ERROR)
proto.fields = { f_len, f_pad }
proto.experts = { e_len }

function proto.dissector(tvb, pinfo, tree)
	local t = tree:add(proto, tvb())
	if tvb:len() < 2 then
		t:add_proto_expert_info(e_len)
		return tvb:len()
	end
	local n = tvb(0, 2):uint()
	t:add(f_len, tvb(0, 2))
	if n < 4 or n + 2 > tvb:len() then
		t:add_proto_expert_info(e_len)
		return tvb:len()
	end
	if tvb:len() > n + 2 then
		t:add(f_pad, tvb(n + 2))
	end
	sscop:call(tvb(2, n):tvb(), pinfo, tree)
	return tvb:len()
end

DissectorTable.get("ethertype"):add(0x88B5, proto)

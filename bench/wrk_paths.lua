-- A journey: requests cycle through the paths given after `--` (all
-- connections share the one sequence, so each path gets an equal share);
-- the summary is printed as bench/wrk_report.lua prints it.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua")

local paths, sent = {}, 0

init = function(args)
  for i = 1, #args do paths[i] = wrk.format(nil, args[i]) end
end

request = function()
  sent = sent + 1
  return paths[(sent - 1) % #paths + 1]
end

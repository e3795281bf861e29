-- wrk script of bench/http_bench.py: POST the lines of a file of pre-signed bodies, one body per request.
--   wrk ... -s bench/http_bodies.lua <url> -- <bodies file> <wrk threads>
-- Thread k of n sends lines k+1, k+1+n, ... so no body is sent twice until the file wraps around; `done` prints
-- `WRAPPED <count>` (bench/http_bench.py fails a run that wrapped where bodies must be unique).
local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    local count = tonumber(args[2])
    bodies = {}
    local all = {}
    for line in io.lines(args[1]) do
        all[#all + 1] = line
        if (#all - 1) % count == id then
            bodies[#bodies + 1] = line
        end
    end
    if #bodies == 0 then  -- fewer bodies than threads (a replayable fixed body): every thread sends them all
        bodies = all
    end
    headers = {["Content-Type"] = "application/json"}
    index = 0
    wrapped = 0
end

function request()
    index = index + 1
    if index > #bodies then
        index = 1
        wrapped = wrapped + 1
    end
    return wrk.format("POST", nil, headers, bodies[index])
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do
        total = total + thread:get("wrapped")
    end
    io.write(string.format("WRAPPED %d\n", total))
end

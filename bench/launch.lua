-- wrk script: POST a different launch token on every request (a token works only once).
-- usage: wrk -s bench/launch.lua URL -- TOKENS_FILE THREADS
local counter = 0
local thread_index = 0
local stride = 1
local tokens = {}

function setup(thread)
  thread:set("index", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  stride = tonumber(args[2])
  counter = index + 1
end

function request()
  local token = tokens[counter]
  counter = counter + stride
  if token == nil then
    token = "exhausted"
  end
  return wrk.format("POST", "/launch", { ["Content-Type"] = "application/x-www-form-urlencoded" },
                    "token=" .. token)
end

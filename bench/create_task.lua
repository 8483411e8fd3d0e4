-- wrk script: every request creates a task (the outbox writes its event in the same transaction).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TODO_BENCH_TOKEN")
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"title": "load %d", "priority": %d, "due_date": "2030-01-01T09:00:00Z", "tags": ["bench"]}', n, n % 3 + 1)
  return wrk.format(nil, "/api/tasks", nil, body)
end

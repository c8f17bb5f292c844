-- Argo CD health of a FlexPipeline (flexcore.io/v1alpha1), from the status the FlexCore
-- controller writes. The mapping and why: docs/gitops.md. Uses only the base library, so it
-- runs as a custom check in argocd-cm as well as a built-in one.
local hs = {}

local function condition(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c == nil then
    return fallback
  end
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted: the controller stops its runs, then removes its finalizer"
  return hs
end

local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.observedGeneration == nil or status.observedGeneration < 0
    or (generation ~= nil and status.observedGeneration ~= generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

local ready = condition(status.conditions, "Ready")
local running = condition(status.conditions, "Running")
local reconciling = condition(status.conditions, "Reconciling")
local stalled = condition(status.conditions, "Stalled")

-- The spec cannot run (a dependency cycle, a missing plugin, a bad config): nothing will
-- happen until the manifest changes.
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready, "The pipeline cannot run")
  return hs
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to judge the spec"
  return hs
end

-- A run this manifest asked for (a new generation without schedule, a run-requested value)
-- is active or waits its turn. Scheduled runs do not count: a sync must not wait for them.
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "A requested run is in progress")
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Suspended: no new runs start"
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "The pipeline cannot go on")
  return hs
end

if status.lastRun ~= nil and status.lastRun.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe(running, "Run " .. tostring(status.lastRun.id) .. " failed")
  return hs
end

hs.status = "Healthy"
hs.message = describe(running, "The pipeline can run")
return hs

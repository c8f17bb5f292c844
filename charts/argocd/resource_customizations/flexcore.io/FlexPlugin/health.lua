-- Argo CD health of a FlexPlugin (flexcore.io/v1alpha1): its Ready condition, once the
-- controller has seen the current generation. Base library only (see docs/gitops.md).
local hs = {}

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted"
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

if status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Ready" then
      if c.status == "True" then
        hs.status = "Healthy"
      elseif c.status == "False" then
        hs.status = "Degraded"
      else
        hs.status = "Progressing"
      end
      hs.message = c.reason .. ": " .. c.message
      return hs
    end
  end
end

hs.status = "Progressing"
hs.message = "Waiting for the controller to judge the spec"
return hs

-- flexcore.raise_fence: a new leader's fencing token, in one statement. It takes the fence's
-- advisory lock exclusively, so it waits for appends of the old token still in flight (they
-- hold it shared until they commit); every append after it reads the raised token and an
-- older one is refused with FC001. Tokens only ever go up, whatever happened to the Lease.
-- p_lock_timeout_ms bounds the wait (a writer frozen mid-transaction must not hold a new
-- leader up forever: the caller retries, and idle_in_transaction_session_timeout ends it).
CREATE FUNCTION flexcore.raise_fence(p_fence text, p_lock_timeout_ms integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_token bigint;
BEGIN
  PERFORM set_config('lock_timeout', p_lock_timeout_ms::text || 'ms', true);
  PERFORM pg_advisory_xact_lock(hashtextextended('flexcore.fence:' || p_fence, 0));
  INSERT INTO flexcore.fences AS f (fence, token) VALUES (p_fence, 1)
    ON CONFLICT (fence) DO UPDATE SET token = f.token + 1, updated_at = now()
    RETURNING f.token INTO v_token;
  RETURN v_token;
END $$;

-- Controllers before leader election wrote under the single fence 'flexcore-engine' with a
-- token of newest + 1 taken at start. Scopes are per bucket now; closing the old fence at the
-- largest token refuses an old replica still running during a rolling upgrade (and one started
-- later cannot take newest + 1 at all).
INSERT INTO flexcore.fences AS f (fence, token) VALUES ('flexcore-engine', 9223372036854775807)
  ON CONFLICT (fence) DO UPDATE SET token = 9223372036854775807, updated_at = now();

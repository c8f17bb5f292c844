-- flexcore.raise_fence: a new leader's fencing token, in one statement. It takes the fence's
-- advisory lock exclusively, so it waits for appends of the old token still in flight (they
-- hold it shared until they commit); every append after it reads the raised token and an
-- older one is refused with FC001. Tokens only ever go up, whatever happened to the Lease.
CREATE FUNCTION flexcore.raise_fence(p_fence text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_token bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('flexcore.fence:' || p_fence, 0));
  INSERT INTO flexcore.fences AS f (fence, token) VALUES (p_fence, 1)
    ON CONFLICT (fence) DO UPDATE SET token = f.token + 1, updated_at = now()
    RETURNING f.token INTO v_token;
  RETURN v_token;
END $$;

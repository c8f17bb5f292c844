/** What the status API's handlers read from: the informer caches, the read models, the replica. */
import type { z } from 'zod';
import type { Cache, PipelineObject, PluginObject } from '../objects.js';
import type { ApiQueries } from '../store/api-queries.js';
import type { ControllerStatus } from './schemas.js';

export interface ApiContext {
  readonly pipelines: Cache<PipelineObject>;
  readonly plugins: Cache<PluginObject>;
  readonly queries: ApiQueries;
  /** This replica's status (GET /status). */
  readonly status: () => z.infer<typeof ControllerStatus>;
}

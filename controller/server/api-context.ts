/** What the status API's handlers read from: the informer caches, the read models, the replica. */
import type { z } from 'zod';
import type { Cache, PipelineObject, PluginObject } from '../objects.js';
import type { ApiQueries } from '../store/api-queries.js';
import type { ControllerStatus } from './schemas.js';
import type { FeedHub } from './stream/feed-hub.js';

export interface ApiContext {
  readonly pipelines: Cache<PipelineObject>;
  readonly plugins: Cache<PluginObject>;
  readonly queries: ApiQueries;
  /** This replica's status (GET /status). */
  readonly status: () => z.infer<typeof ControllerStatus>;
  /** The live stream's reader of the feed (GET /stream); without it the stream answers 503. */
  readonly hub?: FeedHub;
  readonly stream?: StreamSettings;
  /** The writes commands make, as the controller's own identity (after the caller was authorized). */
  readonly commands?: PipelineCommands;
  /** Appends external events (POST /events). */
  readonly events?: ExternalEvents;
}

export interface ExternalEvents {
  append(
    stream: string,
    event: { id: string; type: string; data: Record<string, unknown>; metadata: Record<string, unknown> },
  ): Promise<{ position: number; duplicate: boolean }>;
}

export interface PipelineCommands {
  /** Merges `annotations` into the pipeline's (null removes one). */
  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Creates a FlexPipeline (metadata.generateName allowed); its name as created. */
  createPipeline(namespace: string, manifest: Record<string, unknown>): Promise<string>;
}

export interface StreamSettings {
  /** Unsent bytes a client may fall behind by before it is cut off (1 MiB). */
  readonly maxBufferedBytes: number;
  /** A comment line this often keeps proxies from closing an idle stream (15 s). */
  readonly heartbeatMs: number;
  /** How often a stream's permission is checked again (60 s). */
  readonly recheckMs: number;
  readonly onOpen?: () => void;
  readonly onEnd?: (reason: string) => void;
}

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 15_000,
  recheckMs: 60_000,
};

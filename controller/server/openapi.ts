/**
 * The OpenAPI 3.1 document of the status API, generated from the route declarations: their
 * zod schemas become JSON Schema 2020-12 (OpenAPI 3.1's dialect), and every route gets the
 * problem responses the router can send.
 */
import { z } from 'zod';
import type { Route } from './route.js';
import { Problem } from './schemas.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return rest;
}

function parameters(r: Route): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', r.params],
    ['query', r.query],
  ] as const) {
    if (!schema) continue;
    const shape = (schema as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
    for (const [name, field] of Object.entries(shape)) {
      const json = schemaOf(field, 'input');
      const { description, ...rest } = json;
      out.push({
        name,
        in: where,
        required: where === 'path' || !field.safeParse(undefined).success,
        ...(description !== undefined && { description }),
        schema: rest,
      });
    }
  }
  return out;
}

function problem(description: string): Json {
  return {
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function responses(r: Route): Json {
  const out: Json = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    if (Number(status) >= 400) {
      out[status] = problem(spec.description);
      continue;
    }
    const type = spec.contentType ?? 'application/json';
    out[status] = {
      description: spec.description,
      ...(spec.schema
        ? { content: { [type]: { schema: schemaOf(spec.schema, 'output') } } }
        : spec.contentType
          ? { content: { [type]: { schema: { type: 'string' } } } }
          : {}),
    };
  }
  out['400'] ??= problem('A parameter or the body is invalid: invalidParams names it');
  if (r.access) {
    out['401'] = problem('No bearer token, or one the Kubernetes API does not accept');
    out['403'] = problem('Kubernetes RBAC does not allow it: denied names the verb and resource');
  }
  if (r.body) {
    out['413'] = problem('The body is over 64 KiB');
    out['415'] = problem('The body is not application/json');
  }
  out['431'] = {
    description: 'Request line and headers over 16 KiB: refused by the HTTP server, without a body',
  };
  out['500'] = problem('The controller failed; its log says why');
  out['503'] = problem('PostgreSQL or the Kubernetes API cannot be reached; see Retry-After');
  return out;
}

export function openApiDocument(routes: readonly Route[], info: { version: string; basePath: string }): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = info.basePath + r.path;
    paths[path] ??= {};
    paths[path][r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description && { description: r.description }),
      tags: r.tags,
      parameters: parameters(r),
      ...(r.body && {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schemaOf(r.body, 'input') } },
        },
      }),
      responses: responses(r),
      security: r.access ? [{ bearer: [] }] : [],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'FlexCore status API',
      version: info.version,
      description:
        'Runs, steps, logs, Singer state and the event feed of FlexCore pipelines, and commands that annotate them. Every replica serves it. Authorization is Kubernetes RBAC on flexpipelines and flexplugins (group flexcore.io), checked with TokenReview and SubjectAccessReview.',
    },
    paths,
    components: {
      schemas: { Problem: schemaOf(Problem, 'output') },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A Kubernetes bearer token (kubectl create token ...).',
        },
      },
    },
  };
}

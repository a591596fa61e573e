import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** The name indexes of one @grpc/reflection implementation (1.0.x keeps them in plain objects). */
type Indexes = Record<'files' | 'symbols' | 'extensions', object | undefined>;

/**
 * Reflection over `described`, with its name indexes made prototype-free: in plain objects a
 * request for "toString" or "__proto__" would find Object.prototype's members and be answered
 * with an empty descriptor instead of NOT_FOUND.
 */
export function addReflection(server: Server, described: PackageDefinition): void {
  const service = new ReflectionService(described);
  const versions = service as unknown as Record<'v1' | 'v1Alpha', Indexes | undefined>;
  for (const version of [versions.v1, versions.v1Alpha]) {
    for (const name of ['files', 'symbols', 'extensions'] as const) {
      const index = version?.[name];
      if (index === undefined) throw new Error(`@grpc/reflection has no ${name} index to guard`);
      Object.setPrototypeOf(index, null);
    }
  }
  service.addToServer(server);
}

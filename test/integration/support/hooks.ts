/** Root hooks of the integration run (loaded with --require). */
import { stopSharedPlane } from './plane.js';
import { stopSharedPostgres } from './store.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await Promise.all([stopSharedPlane(), stopSharedPostgres()]);
  },
};

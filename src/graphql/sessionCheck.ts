import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from './context.js';

/** Finds the viewer's live session once the operation has passed every limit, and before it executes. */
export const sessionCheck: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue }) {
        await contextValue.authenticate();
      },
    };
  },
};

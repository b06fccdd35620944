import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from './context.js';
import { refuseNulCharacters } from './nulCharacters.js';

/** Finds the viewer's live session once the operation has passed every limit, and before it executes. Input that
 * cannot be run (a NUL character) is refused first, so that it costs no database query. Apollo runs the plugins'
 * didResolveOperation hooks side by side, so each hook that authenticates checks the input before it does. */
export const sessionCheck: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, document, request }) {
        refuseNulCharacters(document, request.variables);
        await contextValue.authenticate();
      },
    };
  },
};

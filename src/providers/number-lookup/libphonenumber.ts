import { Type } from 'typebox';
import { METADATA_SOURCE, numberInfoFromMetadata } from '../../domain/address/number-info.ts';
import type { NumberLookupDefinition } from './types.ts';

/** Country and line type from libphonenumber's metadata: offline, instant, no SIM-swap or porting data. */
export const libphonenumber: NumberLookupDefinition<Record<string, never>> = {
  name: METADATA_SOURCE,
  description: "Country and line type from libphonenumber's numbering-plan metadata, offline; knows nothing of SIM swaps or porting",
  configSchema: Type.Object({}),
  create() {
    return {
      name: METADATA_SOURCE,
      async lookup(e164) {
        return numberInfoFromMetadata(e164);
      },
    };
  },
};

import { MemoryLocationStore, MemoryUserStore } from '../../../src/store/index.js';
import { locationStoreContract } from './location-store.contract.js';
import { userStoreContract } from './user-store.contract.js';

locationStoreContract('memory', (clock) => ({ store: new MemoryLocationStore({ now: clock }) }));
userStoreContract('memory', () => ({ store: new MemoryUserStore() }));

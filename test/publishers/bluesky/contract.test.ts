import { describePublisherContract } from '../contract-suite.js';
import { blueskyContract } from './bluesky.contract.js';

describePublisherContract(blueskyContract);

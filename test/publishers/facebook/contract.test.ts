import { describePublisherContract } from '../contract-suite.js';
import { facebookContract } from './facebook.contract.js';

describePublisherContract(facebookContract);

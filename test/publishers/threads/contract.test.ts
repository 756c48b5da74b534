import { describePublisherContract } from '../contract-suite.js';
import { threadsContract } from './threads.contract.js';

describePublisherContract(threadsContract);

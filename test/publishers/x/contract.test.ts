import { describePublisherContract } from '../contract-suite.js';
import { xContract } from './x.contract.js';

describePublisherContract(xContract);

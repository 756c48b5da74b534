import { describePublisherContract } from '../contract-suite.js';
import { linkedinContract } from './linkedin.contract.js';

describePublisherContract(linkedinContract);

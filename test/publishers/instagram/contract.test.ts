import { describePublisherContract } from '../contract-suite.js';
import { instagramContract } from './instagram.contract.js';

describePublisherContract(instagramContract);

import { describePublisherContract } from '../contract-suite.js';
import { tiktokContract } from './tiktok.contract.js';

describePublisherContract(tiktokContract);

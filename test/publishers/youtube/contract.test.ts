import { describePublisherContract } from '../contract-suite.js';
import { youtubeContract } from './youtube.contract.js';

describePublisherContract(youtubeContract);

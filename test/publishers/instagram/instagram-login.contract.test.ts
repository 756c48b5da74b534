import { describePublisherContract } from '../contract-suite.js';
import { instagramLoginContract } from './instagram-login.contract.js';

describePublisherContract(instagramLoginContract);

// Jest's testTimeout is global, not per project: the slower tiers set theirs here.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);

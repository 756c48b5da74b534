/**
 * The chat grammar over the registry's platforms, for what parses commands outside a running app
 * (tools, the grammar's tests). The app builds its own from the modules it runs with
 * (`AppOptions.platforms`) and hands it to the core.
 */
import { createGrammar, type CommandKind, type ParseResult, type TargetSpec } from './core/grammar.js';
import { platformDescriptors } from './publishers/registry.js';

export const grammar = createGrammar(platformDescriptors());
export const USAGE: Record<CommandKind, string> = grammar.usageLines;
export const parseCommand = (input: string): ParseResult => grammar.parseCommand(input);
export const parseTargets = (text: string): TargetSpec[] | string => grammar.parseTargets(text);
export const helpText = (enabledPlatforms: readonly string[], prefix?: string): string => grammar.helpText(enabledPlatforms, prefix);

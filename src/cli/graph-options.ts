import { Option } from 'commander';
import { graphFormats } from '../graph/format-names.js';

// The picture options graph and status --graph share; declaring them loads no renderer.

export const formatOption = (): Option => new Option('--format <format>', 'picture format').choices(graphFormats).default('svg');
export const outputOption = (): Option => new Option('-o, --output <file>', 'write the picture to this file (replaced atomically) instead of stdout');

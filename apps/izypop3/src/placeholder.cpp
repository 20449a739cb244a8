// replaced by the CLI work

import { createAgentNodeApp } from "../lib/agent-node/app.ts";

// An agency's Agent Node on AWS: npx cdk deploy --app "npx tsx bin/agent-node.ts" -c agent:config=agent.json
createAgentNodeApp().app.synth();

// openrouter-connector on Azure Container Apps.
//
//   az group create --name openrouter-connector --location westeurope
//   az deployment group create --resource-group openrouter-connector \
//     --template-file deploy/azure/main.bicep \
//     --parameters image=myregistry.azurecr.io/openrouter-connector:0.1.0
//
// Creates: a Log Analytics workspace, a Container Apps environment, the service (external
// HTTPS ingress to port 8080, at least two replicas, probes on /health/live and /health/ready)
// and, unless redisUrl is given, a one-replica Redis container app reachable only inside the
// environment, which makes the per-connection rate limit one limit across all replicas.
//
// The service holds no secret: every caller sends its own OpenRouter key. The only secret this
// template can create is an external redisUrl (it may carry a password).
//
// Conventions that tests/api/deploy.rs relies on: every environment variable of the service is
// one line `{ name: 'NAME', value: ... }` (or `secretRef:`), and the service's port is the
// variable connectorPort.

targetScope = 'resourceGroup'

@description('Azure region of every resource; defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Prefix of every resource name: lowercase letters, digits and hyphens, starting with a letter.')
@minLength(2)
@maxLength(24)
param namePrefix string = 'openrouter-connector'

@description('The service image, built from deploy/Dockerfile, e.g. myregistry.azurecr.io/openrouter-connector:0.1.0.')
param image string

@description('Login server of the private registry holding the image (e.g. myregistry.azurecr.io); empty for a public image.')
param registryServer string = ''

@description('Resource id of a user-assigned managed identity with AcrPull on registryServer; required with registryServer.')
param registryIdentityId string = ''

@description('The URL makers reach, e.g. https://connector.example.com (a custom domain). Empty: the app\'s own https://<app>.<environment domain>.')
param publicBaseUrl string = ''

@description('An existing Redis for the limiter and async jobs (e.g. Azure Managed Redis), as REDIS_URL takes it. Empty: a Redis container app is created.')
@secure()
param redisUrl string = ''

@description('The Redis image of the Redis container app (mirror it into your registry to avoid Docker Hub pull limits).')
param redisImage string = 'docker.io/library/redis:7.4-alpine'

@description('Fewest replicas; two keep the service up through a restart or an update.')
@minValue(2)
param minReplicas int = 2

@description('Most replicas the HTTP scale rule may add.')
@minValue(2)
@maxValue(300)
param maxReplicas int = 10

@description('Calls per connection (API key) per minute, across all replicas (RATE_LIMIT_PER_MINUTE).')
@minValue(1)
param rateLimitPerMinute int = 100

@description('Calls a connection may make at once (RATE_LIMIT_BURST).')
@minValue(1)
param rateLimitBurst int = 100

@description('What to log, in tracing filter syntax (RUST_LOG).')
param rustLog string = 'info'

var appName = namePrefix
var redisAppName = '${namePrefix}-redis'
var connectorPort = 8080
var redisPort = 6379
var shutdownGraceSecs = 30
var useOwnRedis = empty(redisUrl)

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource containerEnv 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

// Internal TCP ingress: reachable as <redisAppName>:6379 from apps of the same environment
// only (internal TCP ingress needs no custom VNet). Memory only: a restart resets limits and
// forgets pending async-job results, nothing more.
resource redis 'Microsoft.App/containerApps@2024-03-01' = if (useOwnRedis) {
  name: redisAppName
  location: location
  properties: {
    environmentId: containerEnv.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        transport: 'tcp'
        targetPort: redisPort
        exposedPort: redisPort
      }
    }
    template: {
      containers: [
        {
          name: 'redis'
          image: redisImage
          args: [
            '--appendonly'
            'no'
            '--maxmemory'
            '384mb'
            '--maxmemory-policy'
            'volatile-ttl'
          ]
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          probes: [
            {
              type: 'Liveness'
              tcpSocket: {
                port: redisPort
              }
              periodSeconds: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

var publicUrl = empty(publicBaseUrl) ? 'https://${appName}.${containerEnv.properties.defaultDomain}' : publicBaseUrl

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  identity: empty(registryIdentityId) ? {
    type: 'None'
  } : {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${registryIdentityId}': {}
    }
  }
  properties: {
    environmentId: containerEnv.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      // HTTPS at the edge; the ingress waits up to 240 s, above the service's 110 s upstream
      // deadline, and passes Server-Sent Events through as they come.
      ingress: {
        external: true
        targetPort: connectorPort
        transport: 'http'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: empty(registryServer) ? [] : [
        {
          server: registryServer
          identity: registryIdentityId
        }
      ]
      secrets: useOwnRedis ? [] : [
        {
          name: 'redis-url'
          value: redisUrl
        }
      ]
    }
    template: {
      // Above SHUTDOWN_GRACE_SECS: calls in flight finish before the replica is killed.
      terminationGracePeriodSeconds: shutdownGraceSecs + 15
      containers: [
        {
          name: 'openrouter-connector'
          image: image
          env: [
            { name: 'BIND', value: '0.0.0.0:${connectorPort}' }
            { name: 'PUBLIC_BASE_URL', value: publicUrl }
            useOwnRedis ? { name: 'REDIS_URL', value: 'redis://${redisAppName}:${redisPort}' } : { name: 'REDIS_URL', secretRef: 'redis-url' }
            { name: 'RATE_LIMIT_PER_MINUTE', value: string(rateLimitPerMinute) }
            { name: 'RATE_LIMIT_BURST', value: string(rateLimitBurst) }
            { name: 'SHUTDOWN_GRACE_SECS', value: string(shutdownGraceSecs) }
            { name: 'LOG_FORMAT', value: 'json' }
            { name: 'RUST_LOG', value: rustLog }
          ]
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/health/live'
                port: connectorPort
              }
              periodSeconds: 2
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/health/live'
                port: connectorPort
              }
              periodSeconds: 10
              timeoutSeconds: 2
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/health/ready'
                port: connectorPort
              }
              periodSeconds: 5
              timeoutSeconds: 2
              failureThreshold: 2
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: '50'
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    redis
  ]
}

@description('The service\'s own HTTPS address.')
output appUrl string = 'https://${app.properties.configuration.ingress.fqdn}'

@description('Import this in Power Automate ("Import an OpenAPI from URL").')
output connectorDefinitionUrl string = '${publicUrl}/connector/apiDefinition.swagger.json'

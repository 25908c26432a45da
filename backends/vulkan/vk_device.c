/*
 * vk_device.c — the Vulkan instance and device: finding the devices
 * (`ember info --devices`, -ngl's plan), opening the one --device names
 * with a compute queue, and what its memory holds (VK_EXT_memory_budget
 * where the driver has it).
 *
 * Devices are named "vulkan<i>" in vkEnumeratePhysicalDevices order,
 * skipping none, so a name stays the same between `ember info` and a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_impl.h"

static VkInstance instance_new(void) {
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "ember",
                             .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pApplicationInfo = &app};
    VkInstance inst = VK_NULL_HANDLE;
    if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS) return VK_NULL_HANDLE;
    return inst;
}

/* The physical devices of inst, malloc'd (*n of them), or NULL. */
static VkPhysicalDevice *physical_devices(VkInstance inst, uint32_t *n) {
    *n = 0;
    if (vkEnumeratePhysicalDevices(inst, n, NULL) != VK_SUCCESS || !*n) return NULL;
    VkPhysicalDevice *d = calloc(*n, sizeof *d);
    if (d && vkEnumeratePhysicalDevices(inst, n, d) != VK_SUCCESS) *n = 0;
    return d;
}

/* The size of the largest device-local heap: what -ngl may fill. */
static uint64_t device_heap(VkPhysicalDevice p) {
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(p, &mp);
    uint64_t best = 0;
    for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
        if ((mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && mp.memoryHeaps[i].size > best)
            best = mp.memoryHeaps[i].size;
    return best;
}

int vk_devices(const struct ember_options *o, struct backend_device *out, int max) {
    (void)o;
    VkInstance inst = instance_new();
    if (!inst) return 0; /* no loader or no driver: no devices, not an error */
    uint32_t n;
    VkPhysicalDevice *d = physical_devices(inst, &n);
    int k = 0;
    for (uint32_t i = 0; d && i < n && k < max; i++, k++) {
        VkPhysicalDeviceProperties pr;
        vkGetPhysicalDeviceProperties(d[i], &pr);
        memset(&out[k], 0, sizeof out[k]);
        snprintf(out[k].name, sizeof out[k].name, "vulkan%u", i);
        snprintf(out[k].description, sizeof out[k].description, "%.100s", pr.deviceName);
        out[k].memory = device_heap(d[i]);
    }
    free(d);
    vkDestroyInstance(inst, NULL);
    return k;
}

/* A queue family with compute, or -1. */
static int compute_family(VkPhysicalDevice p) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(p, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(p, &n, q);
    for (uint32_t i = 0; i < n; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return (int)i;
    return -1;
}

static bool has_extension(VkPhysicalDevice p, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(p, NULL, &n, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties *e = calloc(n ? n : 1, sizeof *e);
    bool found = false;
    if (e && vkEnumerateDeviceExtensionProperties(p, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

/* Whether compute shaders may use subgroupAdd (Vulkan 1.1's query). */
static bool has_subgroup_arithmetic(VkPhysicalDevice p) {
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 pr = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    vkGetPhysicalDeviceProperties2(p, &pr);
    if (pr.properties.apiVersion < VK_API_VERSION_1_1) return false;
    return (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
           (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
           (sg.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
}

/* Index of the device `want` names ("vulkan<i>"; NULL: 0), or -1. */
static int device_index(const char *want, uint32_t n) {
    if (!want || !strcmp(want, "vulkan")) return 0;
    if (strncmp(want, "vulkan", 6) || want[6] < '0' || want[6] > '9') return -1;
    char *end;
    unsigned long i = strtoul(want + 6, &end, 10);
    if (*end || i >= n) return -1;
    return (int)i;
}

static enum ember_status logical_device(struct vk_backend *b, struct ember_err *err) {
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = b->queue_family,
                                  .queueCount = 1,
                                  .pQueuePriorities = &prio};
    const char *ext[1] = {VK_EXT_MEMORY_BUDGET_EXTENSION_NAME};
    b->has_budget = has_extension(b->phys, ext[0]);
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi,
                             .enabledExtensionCount = b->has_budget ? 1 : 0,
                             .ppEnabledExtensionNames = ext};
    if (vkCreateDevice(b->phys, &di, NULL, &b->device) != VK_SUCCESS)
        return ember_fail(err, EMBER_EUNSUPPORTED, "vulkan: cannot open device %s", b->name);
    vkGetDeviceQueue(b->device, b->queue_family, 0, &b->queue);
    return EMBER_OK;
}

enum ember_status vk_device_open(struct vk_backend *b, const char *want, struct ember_err *err) {
    b->instance = instance_new();
    if (!b->instance)
        return ember_fail(err, EMBER_EUNSUPPORTED, "vulkan: no Vulkan driver (vkCreateInstance failed)");
    uint32_t n;
    VkPhysicalDevice *d = physical_devices(b->instance, &n);
    int i = device_index(want, n);
    if (!d || i < 0) {
        free(d);
        return ember_fail(err, EMBER_EUNSUPPORTED, "vulkan: no device '%s' (%u found)",
                          want ? want : "vulkan0", n);
    }
    b->phys = d[i];
    free(d);
    vkGetPhysicalDeviceProperties(b->phys, &b->props);
    b->subgroups = has_subgroup_arithmetic(b->phys);
    vkGetPhysicalDeviceMemoryProperties(b->phys, &b->mem_props);
    snprintf(b->name, sizeof b->name, "vulkan%d (%.40s)", i, b->props.deviceName);
    snprintf(b->report, sizeof b->report, "%s, %s", b->name,
             b->subgroups ? "subgroup reductions" : "shared-memory reductions");
    int qf = compute_family(b->phys);
    if (qf < 0) return ember_fail(err, EMBER_EUNSUPPORTED, "vulkan: %s has no compute queue", b->name);
    b->queue_family = (uint32_t)qf;
    return logical_device(b, err);
}

void vk_device_close(struct vk_backend *b) {
    if (b->device) vkDestroyDevice(b->device, NULL);
    if (b->instance) vkDestroyInstance(b->instance, NULL);
}

int vk_memory_type(const struct vk_backend *b, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < b->mem_props.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (b->mem_props.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

/* Free and total bytes of the device-local heaps: the driver's budget
 * (what this process may still use) with VK_EXT_memory_budget, else the
 * heap sizes for both (the driver cannot tell what others use). */
void vk_memory(const struct ember_backend *be, uint64_t *free_bytes, uint64_t *total) {
    const struct vk_backend *b = (const struct vk_backend *)be;
    VkPhysicalDeviceMemoryBudgetPropertiesEXT bud = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 mp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                            .pNext = b->has_budget ? &bud : NULL};
    vkGetPhysicalDeviceMemoryProperties2(b->phys, &mp);
    *free_bytes = *total = 0;
    for (uint32_t i = 0; i < mp.memoryProperties.memoryHeapCount; i++) {
        if (!(mp.memoryProperties.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)) continue;
        uint64_t size = mp.memoryProperties.memoryHeaps[i].size;
        *total += size;
        if (!b->has_budget) *free_bytes += size;
        else if (bud.heapBudget[i] > bud.heapUsage[i]) *free_bytes += bud.heapBudget[i] - bud.heapUsage[i];
    }
}

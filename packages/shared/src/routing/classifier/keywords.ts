/**
 * The keyword lists, per dimension and language. Syntax (see keyword-matcher.ts): a plain keyword matches whole
 * words; `stem*` also matches longer words; `*suffix` also matches compounds ending with it. Case, Latin accents,
 * hyphens and full-width forms do not matter. Chinese and Japanese keywords match anywhere, so single characters are
 * avoided: `诗` would be fine, `类` would match 类似 ("similar").
 *
 * A keyword counts once per prompt however often it occurs, so repeating "prove" does not make a prompt harder.
 * Overlapping keywords in one dimension both count ("prove" and "prove that" would be two matches), so the lists
 * avoid them. Every language's keywords are searched in every prompt: mixed-language prompts ("用 JSON 格式输出")
 * are common.
 */

export const LANGUAGES = ['en', 'zh', 'ja', 'ru', 'de', 'es', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const KEYWORD_DIMENSIONS = [
  'reasoning',
  'code',
  'multiStep',
  'technical',
  'creative',
  'questionComplexity',
  'agentic',
  'constraints',
  'outputFormat',
  'simpleRequest',
  'domain',
] as const;
export type KeywordDimension = (typeof KEYWORD_DIMENSIONS)[number];

export type KeywordLists = Readonly<Record<KeywordDimension, Readonly<Record<Language, readonly string[]>>>>;

export const KEYWORDS: KeywordLists = {
  /** Asks for a proof, a derivation or explicit reasoning. "step by step" alone is multiStep: it is often casual. */
  reasoning: {
    en: ['prove', 'proving', 'proof', 'proofs', 'derive', 'deriving', 'derivation', 'theorem', 'lemma', 'deduce', 'by induction', 'by contradiction', 'rigorous proof', 'rigorously', 'formal proof', 'formally verify', 'chain of thought', 'think step by step', 'reason step by step', 'think carefully', 'think through', 'reason through', 'counterexample', 'logic puzzle', 'riddle', 'brain teaser', 'q.e.d', 'axiom*'],
    zh: ['证明', '推导', '导出公式', '定理', '引理', '反证法', '归纳法', '数学归纳', '严格地', '严谨地', '推理', '思考一步一步', '一步一步思考', '逐步推理', '思维链', '反例', '逻辑谜题', '公理'],
    ja: ['証明', '導出', '導いて', '定理', '補題', '背理法', '帰納法', '厳密に', '推論', '段階的に考え', '順を追って考え', '一歩ずつ考え', '反例', '論理パズル', '公理'],
    ru: ['докажи', 'докажите', 'доказать', 'доказательств*', 'выведи', 'выведите', 'вывести формулу', 'вывод формулы', 'теорем*', 'лемм*', 'по индукции', 'от противного', 'строго обоснуй*', 'рассуждай*', 'рассуждая', 'подумай шаг за шагом', 'контрпример*', 'логическ* задач*', 'аксиом*'],
    de: ['beweise', 'beweisen', 'beweis', 'beweisführung', 'herleit*', 'leite her', 'theorem', 'satz des', 'lemma', 'vollständige induktion', 'durch widerspruch', 'streng formal', 'denke schrittweise', 'schrittweise nachdenken', 'gegenbeispiel', 'logikrätsel', 'axiom*'],
    es: ['demuestra', 'demuestre', 'demostrar', 'demostración', 'deriva', 'derive', 'derivar', 'derivación', 'teorema', 'lema', 'por inducción', 'por contradicción', 'rigurosamente', 'razona paso a paso', 'piensa paso a paso', 'contraejemplo', 'acertijo', 'axioma*'],
    fr: ['prouve', 'prouvez', 'prouver', 'preuve', 'démontre', 'démontrez', 'démontrer', 'démonstration', 'dérive', 'dérivez', 'dériver', 'théorème', 'lemme', 'par récurrence', "par l'absurde", 'rigoureusement', 'raisonne étape par étape', 'réfléchis étape par étape', 'contre exemple', 'énigme', 'axiome*'],
  },
  /** Writing, reading or fixing code. Code syntax itself is recognised by patterns in dimensions.ts. */
  code: {
    en: ['code', 'coding', 'function', 'functions', 'bug', 'bugs', 'debug*', 'refactor*', 'compile', 'compiler', 'stack trace', 'traceback', 'exception', 'segfault', 'null pointer', 'unit test*', 'regex', 'script', 'syntax error', 'typescript', 'javascript', 'python', 'java', 'rust', 'golang', 'c++', 'c#', 'sql', 'html', 'css', 'api', 'endpoint', 'implement', 'implementation', 'method', 'variable', 'snippet'],
    zh: ['代码', '函数', '程序', '编程', '调试', '报错', '编译', '重构', '脚本', '单元测试', '变量', '实现一个', '接口'],
    ja: ['コード', '関数', 'プログラム', 'バグ', 'デバッグ', 'コンパイル', 'リファクタ', 'スクリプト', 'エラーメッセージ', '変数', '実装', '単体テスト'],
    ru: ['код', 'кода', 'коде', 'функци*', 'программ*', 'баг', 'баги', 'отлад*', 'компил*', 'рефактор*', 'скрипт*', 'переменн*', 'реализуй*', 'исключени*', 'юнит тест*'],
    de: ['code', 'quellcode', 'funktion', 'funktionen', 'programmier*', 'debugg*', 'kompilier*', 'refaktor*', 'skript*', 'variable*', 'implementier*', 'fehlermeldung', 'unit test*'],
    es: ['código', 'función', 'funciones', 'programa', 'programar', 'programación', 'depura*', 'compila*', 'refactoriza*', 'variable*', 'implementa', 'implementar', 'prueba unitaria', 'pruebas unitarias'],
    fr: ['code', 'fonction', 'fonctions', 'programme', 'programmer', 'programmation', 'débogu*', 'compil*', 'refactoris*', 'variable*', 'implémente*', 'test unitaire', 'tests unitaires'],
  },
  /** Several steps or parts. Numbered and bulleted lists are recognised by a pattern in dimensions.ts. */
  multiStep: {
    en: ['first', 'then', 'after that', 'afterwards', 'finally', 'secondly', 'step 1', 'step one', 'followed by', 'step by step', 'multi step'],
    zh: ['首先', '然后', '接着', '之后', '最后', '其次', '第一步', '第二步', '一步一步', '逐步', '分步'],
    ja: ['まず', '次に', 'その後', '最後に', '第一に', 'それから', 'ステップ1', 'ステップバイステップ', '順を追って', '段階的に'],
    ru: ['сначала', 'затем', 'потом', 'после этого', 'наконец', 'во первых', 'во вторых', 'шаг 1', 'далее', 'шаг за шагом', 'пошагово'],
    de: ['zuerst', 'zunächst', 'dann', 'danach', 'anschließend', 'schließlich', 'erstens', 'zweitens', 'schritt 1', 'abschließend', 'schritt für schritt', 'schrittweise'],
    es: ['primero', 'luego', 'después', 'a continuación', 'finalmente', 'por último', 'en segundo lugar', 'paso 1', 'paso a paso'],
    fr: ["d'abord", 'ensuite', 'puis', 'après cela', 'enfin', 'finalement', 'premièrement', 'deuxièmement', 'étape 1', 'étape par étape', 'pas à pas'],
  },
  /** Systems and engineering vocabulary: what separates a design question from a chat. */
  technical: {
    en: ['algorithm*', 'architecture', 'distributed', 'database', 'databases', 'latency', 'throughput', 'scalab*', 'concurren*', 'multithread*', 'kubernetes', 'docker', 'microservice*', 'caching', 'cache', 'consistency', 'consensus', 'replication', 'sharding', 'partitioning', 'load balanc*', 'protocol', 'encryption', 'authentication', 'oauth', 'tcp', 'grpc', 'websocket*', 'neural network*', 'transformer', 'machine learning', 'deep learning', 'gradient descent', 'kernel', 'memory leak', 'race condition', 'deadlock', 'high availability', 'highly available', 'fault toleran*', 'failover', 'multi region', 'message queue', 'infrastructure', 'data model', 'schema migration', 'idempoten*', 'redis', 'postgres*', 'kafka'],
    zh: ['算法', '架构', '分布式', '数据库', '延迟', '吞吐', '可扩展', '并发', '微服务', '缓存', '一致性', '共识', '主从复制', '数据复制', '分片', '负载均衡', '协议', '加密', '认证', '神经网络', '机器学习', '深度学习', '梯度下降', '内核', '内存泄漏', '死锁', '高可用', '容错', '故障转移', '多区域', '消息队列', '幂等', '数据模型'],
    ja: ['アルゴリズム', 'アーキテクチャ', '分散', 'データベース', 'レイテンシ', 'スループット', 'スケーラ', '並行', '並列', 'マイクロサービス', 'キャッシュ', '整合性', 'コンセンサス', 'レプリケーション', 'シャーディング', '負荷分散', 'プロトコル', '暗号化', '認証', 'ニューラルネットワーク', '機械学習', '深層学習', 'カーネル', 'メモリリーク', 'デッドロック', '高可用性', '耐障害性', 'フェイルオーバー', 'マルチリージョン', 'メッセージキュー', '冪等', 'データモデル'],
    ru: ['алгоритм*', 'архитектур*', 'распределенн*', 'база данных', 'базы данных', 'базу данных', 'баз данных', 'задержк*', 'пропускн* способност*', 'масштабир*', 'параллельн*', 'многопоточ*', 'микросервис*', 'кэш*', 'кеш*', 'согласованност*', 'консенсус*', 'репликаци*', 'шардирован*', 'балансировк*', 'протокол*', 'шифровани*', 'аутентификаци*', 'нейронн* сет*', 'машинное обучение', 'машинного обучения', 'глубокое обучение', 'утечка памяти', 'утечку памяти', 'взаимоблокировк*', 'высокая доступность', 'отказоустойчив*', 'очередь сообщений', 'идемпотент*', 'модель данных'],
    de: ['algorithm*', 'architektur*', 'verteilt*', '*datenbank', '*datenbanken', 'latenz*', 'durchsatz', 'skalierb*', 'skalier*', 'nebenläufig*', 'parallelisier*', 'microservice*', 'mikroservice*', 'caching', 'konsistenz', 'konsens*', 'replikation', 'sharding', 'lastverteil*', 'protokoll*', 'verschlüssel*', 'authentifizier*', 'neuronale netze', 'neuronales netz', 'maschinelles lernen', 'speicherleck*', 'deadlock*', 'hochverfügbar*', 'ausfallsicher*', 'fehlertoleran*', 'warteschlange*', 'idempoten*', 'datenmodell*'],
    es: ['algoritmo*', 'arquitectura', 'distribuido', 'distribuida', 'distribuidos', 'base de datos', 'bases de datos', 'latencia', 'rendimiento', 'escalab*', 'concurrencia', 'microservicio*', 'caché', 'consistencia', 'consenso', 'replicación', 'particionado', 'balanceo de carga', 'protocolo*', 'cifrado', 'autenticación', 'red neuronal', 'redes neuronales', 'aprendizaje automático', 'aprendizaje profundo', 'fuga de memoria', 'interbloqueo', 'alta disponibilidad', 'tolerancia a fallos', 'cola de mensajes', 'idempoten*', 'modelo de datos'],
    fr: ['algorithme*', 'architecture', 'distribué', 'distribuée', 'distribués', 'base de données', 'bases de données', 'latence', 'débit', 'scalab*', 'évolutivité', 'microservice*', 'mise en cache', 'cohérence', 'consensus', 'réplication', 'partitionnement', 'équilibrage de charge', 'répartition de charge', 'protocole*', 'chiffrement', 'authentification', 'réseau de neurones', 'réseaux de neurones', 'apprentissage automatique', 'apprentissage profond', 'fuite de mémoire', 'interblocage', 'haute disponibilité', 'tolérance aux pannes', 'file de messages', "file d'attente", 'idempoten*', 'modèle de données'],
  },
  /** Creative writing: worth more than a chat, seldom worth the largest models. */
  creative: {
    en: ['story', 'stories', 'poem', 'poems', 'poetry', 'haiku', 'lyrics', 'song', 'fiction', 'novel', 'screenplay', 'creative', 'imagine', 'fantasy', 'limerick', 'sonnet', 'brainstorm*', 'slogan', 'metaphor*', 'fairy tale', 'protagonist', 'storyline'],
    zh: ['故事', '诗', '小说', '歌词', '剧本', '情节', '创意', '想象', '童话', '文案'],
    ja: ['物語', '詩', '小説', '歌詞', '脚本', 'キャラクター', '登場人物', 'ストーリー', '創作', '想像', '俳句', '童話', 'キャッチコピー'],
    ru: ['рассказ', 'рассказа', 'сказк*', 'стих', 'стихи', 'стихотворени*', 'поэм*', 'роман', 'сценари*', 'песн*', 'персонаж*', 'сюжет*', 'креативн*', 'творческ*', 'придумай*', 'слоган*'],
    de: ['geschichte', 'gedicht*', 'lyrik', 'roman', 'märchen', 'drehbuch', 'songtext*', 'liedtext*', 'romanfigur*', 'kreativ*', 'erfinde*', 'fantasie', 'stell dir vor', 'slogan*'],
    es: ['cuento*', 'historia', 'poema*', 'poesía', 'novela*', 'guion', 'letra de', 'canción', 'personaje*', 'trama', 'creativ*', 'imagina*', 'fantasía', 'eslogan*'],
    fr: ['histoire', 'conte', 'contes', 'poème*', 'poésie', 'roman', 'scénario', 'paroles', 'chanson', 'personnage*', 'intrigue', 'créati*', 'imagine*', 'fantastique', 'slogan*'],
  },
  /** Asking why, comparing, weighing trade-offs: answers that need analysis rather than recall. */
  questionComplexity: {
    en: ['why', 'how does', 'how do', 'how would', 'how can', 'explain', 'compare', 'comparison', 'difference between', 'trade off*', 'tradeoff*', 'pros and cons', 'analy*', 'evaluate', 'implications', 'what if', 'in depth', 'critically', 'justify'],
    zh: ['为什么', '如何', '解释', '比较', '对比', '区别', '差异', '权衡', '优缺点', '分析', '评估', '影响', '深入'],
    ja: ['なぜ', 'どのように', 'どうやって', '説明', '比較', '違い', 'トレードオフ', 'メリットとデメリット', '長所と短所', '分析', '評価', '影響', '詳しく'],
    ru: ['почему', 'как работает', 'каким образом', 'объясни*', 'сравни*', 'разниц*', 'различи*', 'компромисс*', 'плюсы и минусы', 'анализ*', 'проанализир*', 'оцени*', 'последстви*', 'подробно'],
    de: ['warum', 'wieso', 'weshalb', 'wie funktioniert', 'erklär*', 'vergleich*', 'unterschied*', 'abwägung*', 'trade off*', 'vor und nachteile', 'analysier*', 'analyse', 'bewerte*', 'auswirkung*', 'ausführlich'],
    es: ['por qué', 'cómo funciona', 'explica*', 'compara*', 'diferencia*', 'ventajas y desventajas', 'pros y contras', 'analiza*', 'análisis', 'evalúa*', 'implicaciones', 'en profundidad', 'detalladamente'],
    fr: ['pourquoi', 'comment fonctionne', 'explique*', 'compare*', 'comparaison', 'différence*', 'avantages et inconvénients', 'compromis', 'analyse*', 'évalue*', 'implications', 'en détail', 'en profondeur'],
  },
  /** Acting on the world: running, searching, editing files. Tools in the request set `agentic` on their own. */
  agentic: {
    en: ['run the', 'execute', 'search the web', 'browse', 'look up', 'fetch', 'call the api', 'use the tool', 'tool call*', 'deploy', 'open the file', 'read the file', 'edit the file', 'create a file', 'commit', 'pull request', 'click', 'navigate to', 'download', 'install', 'automate', 'agent', 'send an email', 'terminal', 'shell command', 'command line', 'the repository', 'codebase'],
    zh: ['执行', '运行', '搜索', '浏览', '调用', '工具', '部署', '打开文件', '读取文件', '修改文件', '创建文件', '提交代码', '下载', '安装', '自动化', '智能体', '发送邮件', '终端', '命令行', '仓库', '代码库'],
    ja: ['実行', '検索', 'ブラウズ', '呼び出', 'ツール', 'デプロイ', 'ファイルを開', 'ファイルを読', 'ファイルを編集', 'ファイルを作成', 'コミット', 'ダウンロード', 'インストール', '自動化', 'エージェント', 'メールを送', 'ターミナル', 'コマンドライン', 'リポジトリ'],
    ru: ['запусти*', 'выполни*', 'найди в интернете', 'поищи*', 'вызови*', 'инструмент*', 'задеплой*', 'разверни*', 'открой файл', 'прочитай файл', 'отредактируй*', 'создай файл', 'закоммить*', 'скачай*', 'установи*', 'автоматизир*', 'агент*', 'отправь*', 'терминал*', 'командной строк*', 'командная строка', 'репозитори*'],
    de: ['ausführen', 'ausgeführt', 'führe aus', 'suche im internet', 'durchsuche*', 'rufe die api', 'werkzeug*', 'deploye*', 'öffne die datei', 'lies die datei', 'bearbeite die datei', 'erstelle eine datei', 'committe*', 'herunterladen', 'installier*', 'automatisier*', 'agent', 'agenten', 'sende eine e mail', 'terminal', 'kommandozeile', 'repository'],
    es: ['ejecuta*', 'busca en internet', 'busca en la web', 'navega*', 'llama a la api', 'herramienta*', 'despliega*', 'abre el archivo', 'lee el archivo', 'edita el archivo', 'crea un archivo', 'haz commit', 'descarga*', 'instala*', 'automatiza*', 'agente*', 'envía un correo', 'terminal', 'línea de comandos', 'repositorio'],
    fr: ['exécute*', 'lance le', 'cherche sur internet', 'recherche sur le web', 'navigue*', "appelle l'api", 'outil*', 'déploie*', 'ouvre le fichier', 'lis le fichier', 'modifie le fichier', 'crée un fichier', 'télécharge*', 'installe*', 'automatise*', 'agent', 'agents', 'envoie un e mail', 'envoie un mail', 'terminal', 'ligne de commande', 'dépôt'],
  },
  /** Hard requirements on the answer: each is one more thing a weaker model forgets. */
  constraints: {
    en: ['must', 'should not', 'at most', 'at least', 'no more than', 'no less than', 'without using', 'exactly', 'only use', 'constraint*', 'requirement*', 'guarantee*', 'ensure', 'maximum', 'minimum', 'budget', 'deadline', 'limit', 'limits'],
    zh: ['必须', '不得', '不能', '至少', '最多', '不超过', '以内', '仅使用', '只能', '限制', '约束', '要求', '确保', '保证', '时间复杂度', '空间复杂度'],
    ja: ['必ず', 'しなければ', 'てはいけない', '少なくとも', '以内', 'のみを使', 'だけを使', '制限', '制約', '要件', '保証', '確実に', '計算量'],
    ru: ['должен', 'должна', 'должно', 'должны', 'нельзя', 'не более', 'не менее', 'как минимум', 'максимум', 'минимум', 'в пределах', 'без использования', 'ровно', 'огранич*', 'требовани*', 'гарантир*'],
    de: ['muss', 'müssen', 'darf nicht', 'dürfen nicht', 'höchstens', 'mindestens', 'maximal', 'nicht mehr als', 'innerhalb von', 'ohne verwendung', 'beschränk*', 'einschränk*', 'anforderung*', 'garantier*', 'sicherstellen', 'stelle sicher'],
    es: ['debe', 'deben', 'como máximo', 'como mínimo', 'al menos', 'no más de', 'sin usar', 'exactamente', 'solo usa', 'restricci*', 'requisito*', 'límite', 'límites', 'garantiza*', 'asegúrate'],
    fr: ['doit', 'doivent', 'au plus', 'au moins', 'au maximum', 'pas plus de', 'en moins de', 'sans utiliser', 'exactement', 'uniquement', 'contrainte*', 'exigence*', 'limite', 'limites', 'garanti*', 'assure toi', 'assurez vous'],
  },
  /** A required shape for the answer. `response_format` in the request is a floor of its own. */
  outputFormat: {
    en: ['json', 'yaml', 'xml', 'csv', 'markdown', 'table', 'bullet point*', 'bulleted', 'numbered list', 'schema', 'format as', 'formatted as', 'in the format', 'template', 'latex', 'diagram', 'mermaid'],
    zh: ['表格', '列表', '格式', '模板', '要点', '图表'],
    ja: ['表形式', '表にして', '一覧', '箇条書き', '形式で', 'フォーマット', 'テンプレート'],
    ru: ['таблиц*', 'списк*', 'маркированн*', 'формат*', 'шаблон*', 'диаграмм*'],
    de: ['tabelle*', 'liste', 'aufzählung*', 'stichpunkt*', 'format', 'formatiert', 'vorlage*', 'diagramm*'],
    es: ['tabla', 'tablas', 'lista', 'viñeta*', 'formato', 'plantilla*', 'esquema', 'diagrama*'],
    fr: ['tableau', 'tableaux', 'liste', 'puces', 'format', 'formaté', 'schéma', 'diagramme*'],
  },
  /**
   * Greetings, thanks, recall questions, translation: the markers of a request any model answers. This dimension
   * has a negative weight, and fades out as the message grows (dimensions.ts).
   */
  simpleRequest: {
    en: ['hi', 'hello', 'hey', 'thanks', 'thank you', 'thx', 'good morning', 'good night', 'what is', "what's", 'who is', 'who was', 'who wrote', 'when was', 'when did', 'where is', 'define', 'definition of', 'meaning of', 'translate', 'spell', 'how do you say', 'capital of', 'how many', 'how old', 'quick question', 'briefly', 'in one word', 'one sentence', 'tl;dr', 'summarize', 'summarise', 'rephrase', 'typo'],
    zh: ['你好', '您好', '谢谢', '多谢', '早上好', '晚安', '是什么', '是谁', '什么是', '在哪里', '有多少', '翻译', '总结一下', '概括', '简单说', '一句话', '的定义', '首都'],
    ja: ['こんにちは', 'おはよう', 'こんばんは', 'ありがとう', 'とは何', 'って何', 'は何ですか', 'はどこ', 'は誰', '翻訳', '要約', '簡単に', '一言で', '首都', 'の意味'],
    ru: ['привет', 'здравствуй*', 'спасибо', 'благодарю', 'доброе утро', 'добрый день', 'что такое', 'кто такой', 'кто такая', 'где находится', 'когда был', 'когда была', 'сколько', 'переведи*', 'перескажи*', 'резюмируй', 'кратко', 'одним словом', 'столица', 'столицей'],
    de: ['hallo', 'guten morgen', 'guten tag', 'danke', 'vielen dank', 'was ist', 'wer ist', 'wer war', 'wo ist', 'wann war', 'wie viele', 'übersetze*', 'zusammenfass*', 'kurz', 'in einem satz', 'hauptstadt', 'definition'],
    es: ['hola', 'buenos días', 'buenas', 'gracias', 'qué es', 'quién es', 'quién fue', 'dónde está', 'cuándo fue', 'cuántos', 'cuántas', 'traduce*', 'resume', 'resumir', 'resumen', 'brevemente', 'en una frase', 'capital de', 'definición'],
    fr: ['bonjour', 'salut', 'coucou', 'bonsoir', 'merci', "qu'est ce qu*", "c'est quoi", 'qui est', 'qui était', 'où est', 'combien', 'traduis*', 'traduire', 'résume', 'résumer', 'brièvement', 'en une phrase', 'capitale de', 'définition'],
  },
  /** Specialist vocabulary (mathematics, science, law, medicine, finance) that needs a stronger model. */
  domain: {
    en: ['quantum', 'eigen*', 'integral', 'integrals', 'differential equation*', 'calculus', 'topology', 'manifold*', 'stochastic', 'bayesian', 'probability distribution', 'fourier', 'tensor*', 'genome', 'protein folding', 'enzyme*', 'molecular', 'thermodynamic*', 'relativity', 'cryptograph*', 'zero knowledge', 'elliptic curve*', 'statute', 'jurisprudence', 'case law', 'pharmacokinetic*', 'clinical trial*', 'black scholes', 'econometric*', 'irrational', 'prime number*', 'infinitely many', 'polynomial*', 'matrix', 'matrices', 'vector space*', 'group theory', 'number theory', 'combinatori*', 'graph theory', 'np hard', 'np complete', 'geometric series', 'convergence', 'variance', 'binomial'],
    zh: ['量子', '特征值', '积分', '微分方程', '微积分', '拓扑', '流形', '随机过程', '贝叶斯', '概率分布', '傅里叶', '张量', '基因组', '蛋白质', '分子', '热力学', '相对论', '密码学', '椭圆曲线', '判例', '药代动力学', '临床试验', '计量经济', '无理数', '素数', '质数', '多项式', '矩阵', '向量空间', '群论', '数论', '组合数学', '图论', '收敛', '级数', '方差'],
    ja: ['量子', '固有値', '積分', '微分方程式', '位相空間', '多様体', '確率過程', 'ベイズ', '確率分布', 'フーリエ', 'テンソル', 'ゲノム', 'タンパク質', '分子', '熱力学', '相対性理論', '暗号理論', '楕円曲線', '判例', '薬物動態', '臨床試験', '計量経済', '無理数', '素数', '多項式', '行列', 'ベクトル空間', '群論', '数論', '組合せ論', 'グラフ理論', '収束', '級数'],
    ru: ['квантов*', 'собственные значения', 'собственное значение', 'интеграл*', 'дифференциальн*', 'топологи*', 'многообрази*', 'стохастическ*', 'байесовск*', 'распределение вероятностей', 'фурье', 'тензор*', 'геном*', 'молекул*', 'термодинамик*', 'теория относительности', 'криптограф*', 'эллиптическ*', 'судебная практика', 'клинические испытания', 'эконометри*', 'иррациональн*', 'простое число', 'простых чисел', 'многочлен*', 'полином*', 'матриц*', 'векторное пространство', 'теория групп', 'теория чисел', 'комбинаторик*', 'теория графов', 'сходимост*', 'числовой ряд', 'степенной ряд', 'дисперси*'],
    de: ['quanten*', 'eigenwert*', 'integral*', 'differentialgleichung*', 'topologie', 'mannigfaltigkeit*', 'stochastisch*', 'bayes*', 'wahrscheinlichkeitsverteilung*', 'fourier*', 'tensor*', 'genom*', 'protein*', 'molekül*', 'thermodynamik', 'relativitätstheorie', 'kryptogra*', 'elliptische kurve*', 'rechtsprechung', 'klinische studie*', 'ökonometri*', 'irrational*', 'primzahl*', 'polynom*', 'matrix', 'matrizen', 'vektorraum*', 'gruppentheorie', 'zahlentheorie', 'kombinatorik', 'graphentheorie', 'konvergenz', 'geometrische reihe', 'unendliche reihe', 'varianz'],
    es: ['cuántic*', 'autovalor*', 'integral*', 'ecuación diferencial', 'ecuaciones diferenciales', 'topología', 'estocástic*', 'bayesian*', 'distribución de probabilidad', 'fourier', 'tensor*', 'genoma*', 'proteína*', 'molécul*', 'termodinámica', 'relatividad', 'criptograf*', 'curva elíptica', 'curvas elípticas', 'jurisprudencia', 'ensayo clínico', 'ensayos clínicos', 'econometr*', 'irracional*', 'número primo', 'números primos', 'polinomio*', 'matriz', 'matrices', 'espacio vectorial', 'teoría de grupos', 'teoría de números', 'combinatoria', 'teoría de grafos', 'convergencia', 'serie geométrica', 'varianza'],
    fr: ['quantique*', 'valeur propre', 'valeurs propres', 'intégrale*', 'équation différentielle', 'équations différentielles', 'topologie', 'stochastique*', 'bayésien*', 'distribution de probabilité', 'fourier', 'tenseur*', 'génome*', 'protéine*', 'molécul*', 'thermodynamique', 'relativité', 'cryptograph*', 'courbe elliptique', 'courbes elliptiques', 'jurisprudence', 'essai clinique', 'essais cliniques', 'économétri*', 'irrationnel*', 'nombre premier', 'nombres premiers', 'polynôme*', 'matrice*', 'espace vectoriel', 'théorie des groupes', 'théorie des nombres', 'combinatoire', 'théorie des graphes', 'convergence', 'série géométrique', 'variance'],
  },
};

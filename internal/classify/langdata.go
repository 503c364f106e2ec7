package classify

// Language identification data, written for this package (not learned from
// the labelled messages): per language a list of function words and common
// short words, and a sample text from which character-trigram profiles are
// built at start-up. Social messages are short, so function words decide most
// cases; trigrams settle messages made of content words ("Traumauto").

var langCodes = [nLangs]string{"en", "de", "fr", "es", "it", "nl", "pt", "pl"}

// Languages are the language codes the classifier gives a message: the
// eight it tells apart, and "und" for a message without words.
func Languages() []string { return append(langCodes[:len(langCodes):len(langCodes)], "und") }

const (
	lEN = iota
	lDE
	lFR
	lES
	lIT
	lNL
	lPT
	lPL
	nLangs
)

var stopwords = [nLangs]string{
	lEN: `the a an and or but is are was were be been being have has had do does did not no yes i you he she it we
they me my mine your his her our their this that these those what which who whom when where why how there here
of in on at to for with from by about as if so just still even can could would should will shall may might must
get got any some all one new old thanks thank please pls ok okay lol first great nice really very too now again
never anyone someone else guess like much many more only also after before since up out off over into its im
dont cant wont didnt doesnt isnt ive id youre thats whats whos hey hi hello love best ever car cars anybody
would been being than then them him us let make made want need know think look looks looking going gonna wanna
every everything nothing something another other same own back way well good bad right left around because
while though through today tomorrow yesterday week month year years time day guys t s ll ve re don didn
doesn isn won haven wasn merry christmas family happy birthday congrats pic picture awesome
amazing beautiful cool wow dream perfect guys bro mate folks friends weekend morning nah nope yeah yep
yup`,
	lDE: `der die das den dem des ein eine einen einem einer eines und oder aber ist sind war waren bin bist hat
haben hab habe hatte hätte nicht kein keine keinen ich du er sie es wir ihr mich mir dich dir uns euch mein meine
meinen meinem meines meiner dein deine sein seine unser euer was wer wie wo wann warum wieso welche welcher
welches welchen mit von vom zu zum zur im auf für bei beim nach aus über unter vor seit bis am auch noch schon
nur mal doch ja nein sehr so dass daß wenn dann gibt gern gerne bitte danke hallo moin servus kann können will
würde würden muss soll man jetzt heute immer wieder eigentlich echt ganz mehr alle alles diese dieser dieses
hier weil als nix nichts guck sag geht gehts wurde wird werden einfach endlich zeit neue neuen neuer neues
gibt's euch eurem euren ihren jemand leider grüße lg mfg toll schön etwas viel viele wirklich nie durch gegen
ohne um wieder habt seid sein zusammen nächstes jahr fahren fahre fahr ganze ganzen frohe
frohes`,
	lFR: `le la les un une des du de et ou mais est sont était être avoir ai as ont je tu il elle on nous vous ils
elles me te se ce cette ces mon ma mes ton ta son sa notre votre leur leurs qui que quoi quel quelle quels
quelles quand où pourquoi comment combien dans sur pour avec sans par chez en au aux pas ne plus très bien tout
tous toute aussi encore déjà si oui non merci bonjour salut fait faire peut veux voudrais souhaiterais souhaite
y là ici ça cela depuis nouveau nouvelle nouveaux est-ce c'est vos nos moi toi lui leur cet même autre
rien jamais toujours vraiment beaucoup trop peu sera serait avez avons suis es sommes êtes l d j qu n c
est-ce`,
	lES: `el la los las un una unos unas y o pero es son está están era ser estar hay he ha han tengo tiene tienen
yo tú él ella nosotros usted ustedes me te se nos le lo les mi mis tu tus su sus que qué quien quién cual cuál
cuando cuándo donde dónde por porque cómo como cuánto cuanto cuánta de del al en con sin para sobre desde hasta
entre no sí muy más ya también todo todos toda algún alguna alguno alguien este esta esto ese esa eso hola
gracias buenos buenas días día ni nuevo nueva año años vuestro vuestra nuestro nuestra puedo puede quiero
estoy estaba fue hace hacer tiene mucho muchas nada siempre nunca aquí allí ahora otra otro`,
	lIT: `il lo la i gli le un uno una e ed o ma è sono era essere ho hai ha abbiamo hanno io tu lui lei noi voi
loro mi ti si ci vi mio mia miei mie tuo tua suo sua che chi cosa quale quando dove perché come quanto quanti di
del della dello dei delle degli al alla allo ai alle nel nella nei in con per su da dal dalla tra fra non sì
più molto anche già ancora tutto tutti questo questa quello quella ciao grazie salve buongiorno sempre nuova
nuovo guarda vorrei faccio fare sei siamo siete stato stata c'è qui là adesso ora niente mai proprio davvero
bella bello l c dell nell all un'`,
	lNL: `de het een en of maar is zijn was waren ben heb hebt heeft hebben ik je jij u hij zij ze we wij jullie
mij me mijn jouw haar ons onze wat wie welke waar wanneer waarom hoe hoeveel van in op aan met voor bij naar uit
over door om tot te niet geen wel ja nee ook nog al zeer heel erg dit dat deze die er hier daar nu dan als zo
hoi hallo dank bedankt graag nooit iets zelfs precies dezelfde nieuwe keer per jaar woon valt onder gaat kan
kunnen wil moet moeten zal zou worden wordt werd echt gewoon even weer veel meer mooi leuk heb`,
	lPT: `o a os as um uma uns umas e ou mas é são está estão era ser estar tem têm tenho há eu tu você ele ela
nós vocês eles elas me te se nos meu minha meus minhas seu sua seus suas que quem qual quando onde porque por
como quanto de do da dos das no na nos nas em com sem para pra pelo pela não sim muito mais já também ainda todo
tudo este esta isso isto esse essa olá obrigado obrigada boa bom tarde dia alguém desde ontem outro outra
nível máquina ganhe dinheiro rápido interesse comprar valor aqui agora nunca sempre coisa muito vai vou foi
fazer ter estou estava`,
	lPL: `i w we z ze na do od o po za dla przez przy pod nad jest są był była było być mam ma mają ja ty on ona
ono my wy oni mnie mi się mój moja moje moim mojego twój jego jej nasz co kto jaki jaka jakie który która
które kiedy gdzie dlaczego jak ile czy nie tak bardzo już jeszcze też także tylko ten ta to te tym dzień dobry
cześć dziękuję proszę ale lub albo a że bo żeby wczoraj dopiero nowe nowy nowa realny robić mogę może można
będzie było więc teraz tutaj zawsze nigdy bardzo jestem jesteś`,
}

// Sample texts for the trigram profiles: ordinary customer language about
// cars, service, events and everyday life, written for this purpose.
var langSamples = [nLangs]string{
	lEN: `I have been driving this car for three years and I still love it. The service at the dealer was good, but
last week the app stopped working and nobody could tell me why. What is the best way to book an appointment? We are
thinking about buying a new one next year, maybe an electric model with more range. Thanks for the great video, the
music and the pictures are amazing. When will the new model be available in our country, and how much will it
cost? My brother says it is too expensive, but I think it is worth every penny. Please let me know if there is an
event near London this summer. Honestly, this is the most beautiful design you have made in years. Where can I
find the opening hours of the museum? I would like to know whether the warranty covers the battery. Nothing beats
a quiet drive through the countryside on a Sunday morning. Could someone from your team call me back? I ordered
the wrong part and need to return it. Happy birthday to the whole team, keep up the good work. It should be easier
to change the settings without going through three menus. Which engine would you recommend for long trips on the
motorway? My neighbour just bought one and we both think it looks fantastic. Dream car, period. Everyone who
watched this knows exactly what I mean. First time I saw it in person I could not stop smiling. Why does the
screen freeze every morning? Anyone else having the same problem with the charging cable?`,
	lDE: `Ich fahre das Auto jetzt seit drei Jahren und bin immer noch begeistert. Der Service beim Händler war gut,
aber letzte Woche hat die App nicht mehr funktioniert und keiner konnte mir sagen, warum. Wie kann ich am besten
einen Termin in der Werkstatt vereinbaren? Wir überlegen, nächstes Jahr einen neuen zu kaufen, vielleicht ein
Elektroauto mit mehr Reichweite. Danke für das tolle Video, die Musik und die Bilder sind großartig. Wann kommt das
neue Modell zu uns, und was wird es ungefähr kosten? Mein Bruder sagt, es ist viel zu teuer, aber ich finde, es ist
jeden Euro wert. Gibt es im Sommer eine Veranstaltung in der Nähe von München? Ehrlich gesagt ist das das schönste
Design seit Jahren. Wo finde ich die Öffnungszeiten des Museums? Ich würde gern wissen, ob die Garantie auch die
Batterie abdeckt. Nichts geht über eine ruhige Fahrt am Sonntagmorgen durch die Berge. Könnte mich bitte jemand aus
eurem Team zurückrufen? Ich habe das falsche Teil bestellt und muss es zurückschicken. Alles Gute zum Geburtstag an
das ganze Team, macht weiter so. Es sollte einfacher sein, die Einstellungen zu ändern, ohne sich durch drei Menüs
zu klicken. Welchen Motor würdet ihr für lange Strecken auf der Autobahn empfehlen? Unser Nachbar hat sich gerade
einen gekauft und wir finden beide, dass er fantastisch aussieht. Schöne Grüße aus Hamburg und weiter so. Erster
Eindruck: Traumwagen! Die Verarbeitung ist hervorragend, die Sitze bequem und der Motor läuft ruhig.`,
	lFR: `Je conduis cette voiture depuis trois ans et je l'adore toujours. Le service chez le concessionnaire était
bien, mais la semaine dernière l'application ne fonctionnait plus et personne n'a pu m'expliquer pourquoi. Quelle
est la meilleure façon de prendre rendez-vous à l'atelier ? Nous pensons acheter une nouvelle voiture l'année
prochaine, peut-être une électrique avec plus d'autonomie. Merci pour cette superbe vidéo, la musique et les images
sont magnifiques. Quand le nouveau modèle sera-t-il disponible chez nous, et combien va-t-il coûter ? Mon frère dit
que c'est beaucoup trop cher, mais je pense que ça vaut chaque euro. Est-ce qu'il y a un événement près de Paris
cet été ? Honnêtement, c'est le plus beau design que vous ayez fait depuis des années. Où puis-je trouver les
horaires d'ouverture du musée ? J'aimerais savoir si la garantie couvre aussi la batterie. Rien ne vaut une balade
tranquille à la campagne un dimanche matin. Est-ce que quelqu'un de votre équipe pourrait me rappeler ? J'ai
commandé la mauvaise pièce et je dois la renvoyer. Joyeux anniversaire à toute l'équipe, continuez comme ça. Ce
serait plus simple de changer les réglages sans passer par trois menus. Quel moteur me conseillez-vous pour les
longs trajets sur l'autoroute ? Notre voisin vient d'en acheter une et nous la trouvons très belle.`,
	lES: `Conduzco este coche desde hace tres años y todavía me encanta. El servicio en el concesionario fue bueno,
pero la semana pasada la aplicación dejó de funcionar y nadie supo decirme por qué. ¿Cuál es la mejor manera de
pedir una cita en el taller? Estamos pensando en comprar uno nuevo el año que viene, quizás uno eléctrico con más
autonomía. Gracias por el vídeo, la música y las imágenes son increíbles. ¿Cuándo estará disponible el nuevo modelo
en nuestro país y cuánto va a costar? Mi hermano dice que es demasiado caro, pero yo creo que vale cada euro. ¿Hay
algún evento cerca de Madrid este verano? Sinceramente, es el diseño más bonito que habéis hecho en años. ¿Dónde
puedo encontrar el horario del museo? Me gustaría saber si la garantía cubre también la batería. No hay nada como
un paseo tranquilo por el campo un domingo por la mañana. ¿Alguien de vuestro equipo me puede llamar? Pedí la pieza
equivocada y tengo que devolverla. Feliz cumpleaños a todo el equipo, seguid así. Debería ser más fácil cambiar los
ajustes sin pasar por tres menús. ¿Qué motor me recomendáis para viajes largos por la autopista? Nuestro vecino
acaba de comprarse uno y a los dos nos parece precioso.`,
	lIT: `Guido questa macchina da tre anni e la adoro ancora. Il servizio dal concessionario è stato buono, ma la
settimana scorsa l'app ha smesso di funzionare e nessuno ha saputo dirmi perché. Qual è il modo migliore per
prenotare un appuntamento in officina? Stiamo pensando di comprarne una nuova l'anno prossimo, magari elettrica con
più autonomia. Grazie per il bellissimo video, la musica e le immagini sono stupende. Quando sarà disponibile il
nuovo modello in Italia e quanto costerà? Mio fratello dice che è troppo cara, ma io penso che valga ogni euro. C'è
un evento vicino a Milano quest'estate? Sinceramente è il design più bello che avete fatto da anni. Dove posso
trovare gli orari di apertura del museo? Vorrei sapere se la garanzia copre anche la batteria. Non c'è niente di
meglio di un giro tranquillo in campagna la domenica mattina. Qualcuno del vostro team mi può richiamare? Ho
ordinato il pezzo sbagliato e devo restituirlo. Buon compleanno a tutta la squadra, continuate così. Dovrebbe
essere più facile cambiare le impostazioni senza passare per tre menu. Quale motore mi consigliate per i viaggi
lunghi in autostrada? Il nostro vicino ne ha appena comprata una e a tutti e due sembra fantastica. Che spettacolo,
complimenti a tutti.`,
	lNL: `Ik rijd nu drie jaar in deze auto en ik ben er nog steeds blij mee. De service bij de dealer was goed, maar
vorige week deed de app het niet meer en niemand kon me vertellen waarom. Wat is de beste manier om een afspraak bij
de werkplaats te maken? We denken erover om volgend jaar een nieuwe te kopen, misschien een elektrische met meer
bereik. Bedankt voor de mooie video, de muziek en de beelden zijn geweldig. Wanneer is het nieuwe model bij ons te
koop en wat gaat het ongeveer kosten? Mijn broer zegt dat het veel te duur is, maar ik vind het elke euro waard. Is
er deze zomer een evenement in de buurt van Amsterdam? Eerlijk gezegd is dit het mooiste ontwerp in jaren. Waar kan
ik de openingstijden van het museum vinden? Ik wil graag weten of de garantie ook de accu dekt. Er gaat niets boven
een rustige rit door het platteland op zondagochtend. Kan iemand van jullie team mij terugbellen? Ik heb het
verkeerde onderdeel besteld en moet het terugsturen. Gefeliciteerd met jullie verjaardag, ga zo door. Het zou
makkelijker moeten zijn om de instellingen te veranderen zonder door drie menu's te gaan. Welke motor raden jullie
aan voor lange ritten op de snelweg? Onze buurman heeft er net een gekocht en we vinden hem allebei prachtig.`,
	lPT: `Dirijo este carro há três anos e ainda adoro. O atendimento na concessionária foi bom, mas na semana passada o
aplicativo parou de funcionar e ninguém soube me dizer por quê. Qual é a melhor forma de agendar uma revisão na
oficina? Estamos pensando em comprar um novo no ano que vem, talvez um elétrico com mais autonomia. Obrigado pelo
vídeo, a música e as imagens são incríveis. Quando o novo modelo vai estar disponível no Brasil e quanto vai custar?
Meu irmão diz que é caro demais, mas eu acho que vale cada centavo. Vai ter algum evento perto de São Paulo este
ano? Sinceramente, é o design mais bonito que vocês fizeram em anos. Onde posso encontrar o horário de funcionamento
do museu? Gostaria de saber se a garantia também cobre a bateria. Não há nada melhor do que um passeio tranquilo
pelo interior num domingo de manhã. Alguém da equipe pode me ligar? Eu pedi a peça errada e preciso devolver.
Parabéns a toda a equipe, continuem assim. Deveria ser mais fácil mudar as configurações sem passar por três menus.
Qual motor vocês recomendam para viagens longas na estrada? O nosso vizinho acabou de comprar um e nós dois achamos
que ficou lindo. Que máquina, isso é outro nível.`,
	lPL: `Jeżdżę tym samochodem od trzech lat i nadal jestem zachwycony. Obsługa u dealera była dobra, ale w zeszłym
tygodniu aplikacja przestała działać i nikt nie potrafił mi powiedzieć dlaczego. Jak najłatwiej umówić się na
wizytę w serwisie? Zastanawiamy się nad zakupem nowego w przyszłym roku, może elektrycznego z większym zasięgiem.
Dziękuję za świetny film, muzyka i zdjęcia są niesamowite. Kiedy nowy model będzie dostępny w Polsce i ile będzie
kosztował? Mój brat mówi, że jest za drogi, ale moim zdaniem jest wart każdej złotówki. Czy tego lata będzie jakieś
wydarzenie w pobliżu Warszawy? Szczerze mówiąc, to najpiękniejszy projekt od lat. Gdzie mogę znaleźć godziny
otwarcia muzeum? Chciałbym wiedzieć, czy gwarancja obejmuje także akumulator. Nie ma nic lepszego niż spokojna
przejażdżka po wsi w niedzielny poranek. Czy ktoś z waszego zespołu może do mnie oddzwonić? Zamówiłem złą część i
muszę ją zwrócić. Wszystkiego najlepszego dla całego zespołu, tak trzymać. Zmiana ustawień powinna być prostsza,
bez przechodzenia przez trzy menu. Jaki silnik polecacie na długie trasy autostradą? Nasz sąsiad właśnie kupił
taki sam i oboje uważamy, że wygląda wspaniale.`,
}
